/** The text of `-h`: every command-line form shown here is run by tests/server/forms.test.ts. */
import { HTTP_TOKEN_ENV, PORT_FILE_ENV } from "./config.ts";

export const USAGE = `Usage: deno task start [options]
       deno task start -- [options]
       deno run --allow-net --allow-read --allow-write --allow-env main.ts [options]

memcached flags:
  -p, --port=<num>          TCP port to listen on (default 11211, 0 = off, -1 = any free port)
  -l, --listen=<addr>       interfaces to listen on, comma separated, each host or host:port
                            (default 127.0.0.1)
  -b, --listen-backlog=<n>  the memcached TCP listeners' backlog (default 1024)
  -U, --udp-port=<num>      UDP port to listen on, on the -l addresses (default 0, off, -1 = any
                            free port; memcached's framing; without -p, TCP takes this port too)
  -s, --unix-socket=<file>  UNIX socket to listen on (disables TCP unless -p is given);
                            a file there that is not a socket is refused and left alone
  -a, --unix-mask=<mask>    access mask for the UNIX socket, in octal (default 700)
  -m, --memory-limit=<mb>   item memory in megabytes (default 64)
  -c, --conn-limit=<num>    max simultaneous connections (default 1024)
  -I, --max-item-size=<n>   largest item, with k/m suffix (default 1m, at most half of -m)
  -M, --disable-evictions   return an error on memory exhausted instead of evicting
  -C, --disable-cas         disable use of CAS
  -F, --disable-flush-all   refuse flush_all (and HTTP POST /admin/flush)
  -A, --enable-shutdown     enable the ascii "shutdown" command
  -S, --enable-sasl         require SASL PLAIN authentication (binary protocol only);
                            passwords: -o sasl_password_file=<file> or $MEMCACHED_SASL_PWDB
  -Y, --auth-file=<file>    require text protocol authentication (ascii protocol only)
                            password files hold user:password lines
  -B, --protocol=<name>     auto, ascii or binary (default auto)
  -P, --pidfile=<file>      write the process id to this file (removed on a clean stop)
  -v, --verbose             -v connections and errors; -vv every command and HTTP request
  -o, --extended=<opts>     comma separated: idle_timeout=N, sasl_password_file=PATH
  -h, --help                print this help and exit
  -V, --version             print version and exit
  -R, --max-reqs-per-event=<n>  requests per connection per turn before it yields (default 20)
  -D <char>                 key prefix delimiter for "stats detail" (default :)
  -X, --disable-dumping     disable lru_crawler metadump/mgdump, stats cachedump, GET /keys?stream
  -W, --disable-watch       disable "watch" and GET /watch
  -o watcher_logbuf_size=<kb>, -o lru_crawler|no_lru_crawler, -o lru_maintainer|no_lru_maintainer
     (the background sweep of dead items), -o no_modern (no crawler, no maintainer)
  -e, --memory-file=<file>  save items there on a clean stop, load them at start
  -Z, --enable-ssl          TLS on the memcached TCP listeners (-l notls:<addr>:<port> keeps one
                            plain) and on the HTTP door; -o ssl_chain_cert=<file>,ssl_key=<file>,
                            ssl_ca_cert=<file>,ssl_verify_mode=0..3,ssl_min_version=2|3,
                            ssl_session_cache,ssl_wbuf_size=<kb>; "refresh_certs" reloads them
                            (refused: ssl_ciphers, ssl_kernel_tls, ssl_keyformat other than 1,
                            ssl_min_version 0 or 1: rustls speaks TLS 1.2 and 1.3 only)
  accepted and ignored (with a warning): -t -u -f -n -L -k -r -N
  refused: -d (a Deno process cannot fork; run it under systemd, see deploy/)
  $${PORT_FILE_ENV}=<file>: write "TCP INET: <port>" lines there once listening

own flags:
  --http-port=<num>         HTTP API port (default 8000, 0 = off)
  --http-host=<addr>        HTTP API address (default 127.0.0.1)
  --http-token-file=<file>  require "Authorization: Bearer <token>", the token read from the file
                            (or set $${HTTP_TOKEN_ENV}; --http-token=<token> works but shows
                            the token in process lists and in deno task's echo)
  --log-format=<fmt>        text (default) or json (one JSON object per line)
  --enable-debugtime        accept "debugtime <seconds>" to move the clock (for tests)
  --http-tls-cert=<file>, --http-tls-key=<file>
                            HTTPS on the HTTP door with this certificate (under -Z it uses
                            ssl_chain_cert and ssl_key unless these are given)
  --tls-handshake-timeout=<ms>  a TLS handshake must finish this soon after the TCP accept, or
                            the connection is closed (default 10000)

persistence:
  --persist-log=<dir>       log every change there, so a crash loses at most what --fsync allows
  --fsync=<mode>            always (before each reply), everysec (default) or no
  --persist-repair          start even if a log or snapshot is damaged, keeping what precedes it
  --persist-rewrite-size=<n> rewrite the log from a snapshot past this size (default 64m)

limits:
  --max-inflight=<size>     memory for values still arriving, all clients together; beyond it a
                            store gets "SERVER_ERROR out of memory storing object" or HTTP 503
                            (default 64m, k/m/g suffix)
  --http-conn-limit=<num>   HTTP connections open at once; beyond it 503 (default 1024)
  --http-insecure           with -S or -Y, serve the HTTP API without --http-token (warned)
  --http-timeout=<ms>       an HTTP request's head, then its body, must arrive within this
                            time (else the connection is closed, or 408 for a body), and a
                            client must take each answer write within it (default 10000)
  --http-idle-timeout=<ms>  an HTTP connection without a request for this long is closed
                            (default 60000)
  --shutdown-grace=<ms>     on SIGTERM, time in-flight requests get before every connection is
                            closed (default 2000)
`;
