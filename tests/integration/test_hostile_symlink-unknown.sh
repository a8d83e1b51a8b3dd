#!/bin/bash
# wheelfs add must refuse a symlink whose target climbs ("..") out of a name
# the wheel does not have: once installed, another wheel or the upper layer
# could make that name a symlink (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case symlink-unknown 'symlink.*name the wheel does not have'
