#!/bin/bash
# wheelfs add must refuse a wheel with an entry inflating to more than its declared size (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case size-mismatch 'size|length'
