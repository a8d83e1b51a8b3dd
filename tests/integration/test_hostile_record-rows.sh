#!/bin/bash
# wheelfs add must refuse a RECORD with far more rows than the wheel has
# entries before it holds them all in memory (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case record-rows 'RECORD: line [0-9]+: more rows than the wheel has entries'
