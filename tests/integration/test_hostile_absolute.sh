#!/bin/bash
# wheelfs add must refuse a wheel with an absolute entry name, "/etc/evil" (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case absolute 'absolute|/etc/evil'
