#!/bin/bash
# wheelfs add must refuse a wheel with an entry named "../evil" (see hostile.sh).
. "$(dirname "${BASH_SOURCE[0]}")/hostile.sh"
hostile_case dotdot '\.\.'
