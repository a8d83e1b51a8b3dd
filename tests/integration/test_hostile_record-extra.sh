#!/bin/bash
# wheelfs add must refuse a wheel with a RECORD entry for a file absent from the wheel (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case record-extra 'ghost\.py'
