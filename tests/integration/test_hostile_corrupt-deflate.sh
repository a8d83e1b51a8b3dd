#!/bin/bash
# wheelfs add must refuse a wheel with a corrupt deflate stream (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case corrupt-deflate 'corrupt|crc|inflat|zlib|deflate|compress|checksum|size|length'
