#!/bin/bash
# wheelfs add must refuse a wheel with a file missing from RECORD (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case record-missing 'RECORD'
