#!/bin/bash
# wheelfs add must refuse a wheel with two entries with the same name (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case duplicate 'duplicate'
