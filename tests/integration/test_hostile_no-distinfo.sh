#!/bin/bash
# wheelfs add must refuse a wheel with no .dist-info directory (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case no-distinfo 'dist-info'
