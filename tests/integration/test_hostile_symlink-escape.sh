#!/bin/bash
# wheelfs add must refuse a wheel with a symlink entry pointing to ../../etc/passwd (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case symlink-escape 'symlink|escap'
