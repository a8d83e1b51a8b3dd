#!/bin/bash
# wheelfs add must refuse a wheel with an entry name holding a NUL byte (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case nul 'nul|\\0|\\x00|control|embedded'
