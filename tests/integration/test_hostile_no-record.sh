#!/bin/bash
# wheelfs add must refuse a wheel with no RECORD file (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case no-record 'RECORD'
