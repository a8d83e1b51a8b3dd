#!/bin/bash
# wheelfs add must refuse a wheel with a wrong sha256 in RECORD (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case record-hash 'sha256|hash'
