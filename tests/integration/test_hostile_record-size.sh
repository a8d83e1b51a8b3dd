#!/bin/bash
# wheelfs add must refuse a wheel with a wrong size in RECORD (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case record-size 'size'
