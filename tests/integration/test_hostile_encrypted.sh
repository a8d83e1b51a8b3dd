#!/bin/bash
# wheelfs add must refuse a wheel with an encrypted entry (flag bit 0) (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case encrypted 'encrypt'
