#!/bin/bash
# wheelfs add must refuse a wheel with Wheel-Version: 2.0 (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case wheel-version 'Wheel-Version'
