#!/bin/bash
# wheelfs add must refuse a symlink in the .data directory: it would be
# installed into bin/ or the venv's root, where its target means something
# else (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case symlink-data 'symlink in the \.data directory'
