#!/bin/sh
# run-with-env.sh [--prepare] ENVFILE CMD [ARGS...]
#
# Export every NAME=value of ENVFILE (sourced by sh with `set -a`; the same file systemd reads
# with EnvironmentFile=), then exec CMD. supervisord's environment= cannot read a file; this can.
# Values in ENVFILE win over the environment the wrapper was started with.
#
# --prepare: before exec'ing CMD, create the data directory and the directory of the group's
# ipc sockets (edge_common.wire.Endpoints.prepare), using CMD itself as the python. The ingest
# and query workers bind their sockets there and may start before the persister has made it;
# the persister and the gateway do not need it.
set -eu

prog=run-with-env.sh
prepare=
if [ "${1:-}" = "--prepare" ]; then
    prepare=1
    shift
fi
if [ $# -lt 2 ]; then
    echo "usage: $prog [--prepare] ENVFILE CMD [ARGS...]" >&2
    exit 2
fi

envfile=$1
shift
case $envfile in
    */*) ;;
    *) envfile=./$envfile ;; # `. name` would search $PATH
esac
if [ ! -r "$envfile" ]; then
    echo "$prog: cannot read the environment file $envfile" >&2
    exit 2
fi

set -a
# shellcheck disable=SC1090
. "$envfile"
set +a

if [ -n "$prepare" ]; then
    "$1" -c '
from edge_common.settings import Settings
from edge_common.wire import Endpoints

settings = Settings()
settings.data_dir.mkdir(parents=True, exist_ok=True)
Endpoints.for_data_dir(settings.data_dir).prepare()
'
fi

exec "$@"
