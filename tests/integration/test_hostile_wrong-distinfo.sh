#!/bin/bash
# wheelfs add must refuse a wheel with a .dist-info directory named for another project (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case wrong-distinfo 'dist-info'
