#!/bin/bash
# wheelfs add must refuse a wheel with an entry declaring 5 GiB (zip64), over the 4 GiB cap (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case oversize 'size|large|limit|exceed|cap'
