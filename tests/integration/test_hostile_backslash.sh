#!/bin/bash
# wheelfs add must refuse a wheel with a backslash in an entry name (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case backslash 'backslash|\\'
