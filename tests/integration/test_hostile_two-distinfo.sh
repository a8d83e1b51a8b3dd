#!/bin/bash
# wheelfs add must refuse a wheel with two .dist-info directories (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case two-distinfo 'dist-info'
