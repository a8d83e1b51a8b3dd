#!/bin/bash
# wheelfs add must refuse a wheel with a file name outside the wheel grammar ("demo.whl") (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case bad-name 'name|invalid'
