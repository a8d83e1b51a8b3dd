#!/bin/bash
# wheelfs add must refuse a wheel with a 20 MiB entry of zeros declared as 4 KiB (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case bomb 'size|length'
