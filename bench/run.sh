#!/usr/bin/env bash
# Benchmarks, measured in one run on this machine, printed as one table and
# written to bench/results.md with the machine and date:
#   - issuance over HTTP from P-256 CSRs to a P-256 intermediate, durable
#     (synced) commit, at concurrency 1, 8 and 32: cairn and `cfssl serve`
#     (Debian golang-cfssl, signing with its own P-256 intermediate under a
#     P-256 root: cairn never exports its CA keys), and their ratio;
#   - OpenSSL's own bound: ECDSA P-256 sign + verify per certificate (one CSR
#     verify, one signature), on every core (openssl speed -multi);
#   - OCSP answers/s at concurrency 32, cached (nonce-less) and freshly signed
#     (with a nonce), cairn (its public listener, --public-listen) and
#     `openssl ocsp -multi`;
#   - CA scale (bench/scale_bench, in-process on RocksDB): revocation to new
#     CRL at 1,000 / 100,000 / 1,000,000 revoked, a full CRL build and its
#     size, replay events/s, cold start with and without the snapshot, and
#     resident memory per certificate.
# Usage: bench/run.sh [SECONDS per point, default 10] [CERTIFICATES for the
# scale part, default 1000010; 1M takes ~10 min and ~6 GB of RAM] [ROUNDS of
# the issuance points, default 3]. Needs root once to install golang-cfssl;
# builds Release in build-release/.
# Issuance: this machine's speed drifts by 10-25% from minute to minute, so
# cairn and cfssl take turns (the order alternates each round) and each
# figure is the median of the rounds, with the range of the rates shown.
# The load generator (bench/bench_client) drives its keep-alive connections
# from two event loops, so it takes little of the CPU it shares with the
# server under test. Loopback only.
set -euo pipefail
SECS=${1:-10}
SCALE=${2:-1000010}
ROUNDS=${3:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if ! command -v cfssl >/dev/null; then
  if [[ $(id -u) == 0 ]]; then apt-get install -y -qq golang-cfssl >/dev/null; else echo "install golang-cfssl" >&2; exit 1; fi
fi
export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
# GCC 12 at -O3 reports a false -Wrestrict inside std::string (GCC bug 105329): warnings stay on, not fatal.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCAIRN_BUILD_TESTS=OFF -DCAIRN_WERROR=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target cairn bench_client scale_bench >/dev/null
CAIRN=$ROOT/build-release/cli/cairn
CLIENT=$ROOT/build-release/bench/bench_client
SCALE_BENCH=$ROOT/build-release/bench/scale_bench
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench-XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do pkill -KILL -P "$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
cd "$WORK"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)); }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# cairn, durable, on a RocksDB data directory in the temp dir, with the
# default configuration (only the hierarchy is asked for).
cat > cairn.toml <<TOML
[bootstrap]
enabled = true
TOML
export CAIRN_PASSPHRASE="benchmark passphrase, not secret"
"$CAIRN" serve --config cairn.toml --data-dir data --listen 127.0.0.1:0 --port-file port \
  --public-listen 127.0.0.1:0 --public-port-file public-port >cairn.log 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do [[ -s port ]] && break; sleep 0.1; done
CAIRN_PORT=$(cat port)
CAIRN_PUBLIC_PORT=$(cat public-port)  # OCSP, CRLs, CA certificates (PublicListener)
wait_http "http://127.0.0.1:$CAIRN_PORT/health"
TOKEN=$(cat data/admin.token)

# cfssl serve with a P-256 root and intermediate made by openssl.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem -days 3650 \
  -subj "/CN=Bench Root" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key -out inter.csr \
  -subj "/CN=Bench Intermediate" 2>/dev/null
openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -out inter.pem -days 1825 \
  -extfile <(printf "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n") 2>/dev/null
cat > cfssl.json <<'JSON'
{"signing": {"default": {"usages": ["digital signature", "server auth"], "expiry": "2160h"}}}
JSON
CFSSL_PORT=$(free_port)
cfssl serve -address 127.0.0.1 -port "$CFSSL_PORT" -ca inter.pem -ca-key inter.key -config cfssl.json >cfssl.log 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$CFSSL_PORT/api/v1/cfssl/info"

declare -A RATE P50 P99 RATES P50S P99S
WARNINGS=()  # also written to results.md: a figure from a run with errors is not to be trusted
warn() { echo "warning: $*" >&2; WARNINGS+=("$*"); }
field() { sed -E "s/.*\"$1\":([0-9.e+-]+).*/\1/"; }
# median / min / max of whitespace-separated numbers
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
lowest() { tr ' ' '\n' | grep -v '^$' | sort -g | head -1; }
highest() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }
for round in $(seq 1 "$ROUNDS"); do
  order="cairn cfssl"
  ((round % 2)) || order="cfssl cairn"
  for c in 1 8 32; do
    for target in $order; do
      if [[ $target == cairn ]]; then out=$("$CLIENT" cairn 127.0.0.1 "$CAIRN_PORT" "$c" "$SECS" "$TOKEN");
      else out=$("$CLIENT" cfssl 127.0.0.1 "$CFSSL_PORT" "$c" "$SECS"); fi
      RATES[$target$c]+="$(echo "$out" | field rate) "
      P50S[$target$c]+="$(echo "$out" | field p50_ms) "
      P99S[$target$c]+="$(echo "$out" | field p99_ms) "
      errs=$(echo "$out" | field errors)
      [[ $errs == 0 ]] || warn "$target at concurrency $c (round $round) had $errs errors"
    done
  done
done
for key in "${!RATES[@]}"; do
  RATE[$key]=$(echo "${RATES[$key]}" | median)
  P50[$key]=$(echo "${P50S[$key]}" | median)
  P99[$key]=$(echo "${P99S[$key]}" | median)
done

# OCSP at concurrency 32, nonce-less requests (cached answers): cairn's
# responder and `openssl ocsp` as a responder on all cores (-multi), each
# asked about a valid certificate of its CA.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
  -subj "/CN=ocsp.bench.example" 2>/dev/null
CAIRN_SERVER="http://127.0.0.1:$CAIRN_PORT" CAIRN_TOKEN="$TOKEN" "$CAIRN" cert issue --ca issuing --csr leaf.csr \
  --dns ocsp.bench.example --out cairn-leaf.pem >/dev/null
CAIRN_SERVER="http://127.0.0.1:$CAIRN_PORT" CAIRN_TOKEN="$TOKEN" "$CAIRN" ca chain issuing | openssl x509 -out cairn-issuing.pem
openssl ocsp -issuer cairn-issuing.pem -cert cairn-leaf.pem -no_nonce -reqout cairn-ocsp.req >/dev/null 2>&1
openssl ocsp -issuer cairn-issuing.pem -cert cairn-leaf.pem -reqout cairn-ocsp-nonce.req >/dev/null 2>&1
openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key -CAcreateserial -out ossl-leaf.pem -days 90 2>/dev/null
SERIAL=$(openssl x509 -in ossl-leaf.pem -noout -serial | cut -d= -f2)
END=$(date -u -d "$(openssl x509 -in ossl-leaf.pem -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t%s\tunknown\t/CN=ocsp.bench.example\n' "$END" "$SERIAL" > index.txt
openssl ocsp -issuer inter.pem -cert ossl-leaf.pem -no_nonce -reqout ossl-ocsp.req >/dev/null 2>&1
openssl ocsp -issuer inter.pem -cert ossl-leaf.pem -reqout ossl-ocsp-nonce.req >/dev/null 2>&1
# A fresh `openssl ocsp` responder for each of its runs: in two runs one
# kept after an earlier run (whose connections were cut off when it ended)
# answered little or nothing, with no error seen by the client.
# -ignore_err: a malformed or cut-off request does not stop a process.
OSSL_OCSP_PID=""
start_ossl_ocsp() {
  OCSP_PORT=$(free_port)
  openssl ocsp -index index.txt -port "$OCSP_PORT" -rsigner inter.pem -rkey inter.key -CA inter.pem -nmin 60 \
    -multi "$(nproc)" -ignore_err >>ocsp.log 2>&1 &
  OSSL_OCSP_PID=$!
  PIDS+=("$OSSL_OCSP_PID")
  for _ in $(seq 1 50); do
    openssl ocsp -reqin ossl-ocsp.req -url "http://127.0.0.1:$OCSP_PORT/" -CAfile root.pem -timeout 2 >/dev/null 2>&1 && return
    sleep 0.1
  done
  warn "openssl ocsp did not answer on port $OCSP_PORT"
}
# -multi keeps its worker children on SIGTERM: stop them too.
stop_ossl_ocsp() {
  pkill -KILL -P "$OSSL_OCSP_PID" 2>/dev/null || true
  kill -KILL "$OSSL_OCSP_PID" 2>/dev/null || true
  wait "$OSSL_OCSP_PID" 2>/dev/null || true
}
for kind in "" -nonce; do
  for who in cairn ossl; do
    if [[ $who == cairn ]]; then out=$("$CLIENT" ocsp 127.0.0.1 "$CAIRN_PUBLIC_PORT" 32 "$SECS" "cairn-ocsp$kind.req" /ocsp/issuing);
    else start_ossl_ocsp; out=$("$CLIENT" ocsp 127.0.0.1 "$OCSP_PORT" 32 "$SECS" "ossl-ocsp$kind.req" /); stop_ossl_ocsp; fi
    RATE[ocsp$who$kind]=$(echo "$out" | field rate)
    P99[ocsp$who$kind]=$(echo "$out" | field p99_ms)
    errs=$(echo "$out" | field errors)
    [[ $errs == 0 ]] || warn "OCSP$kind against $who had $errs errors"
    [[ $(echo "$out" | field ok) != 0 ]] || warn "OCSP$kind against $who: no answers"
  done
done

# CA scale, in-process on a RocksDB directory (the servers are stopped first
# so the cores are its own).
# openssl ocsp -multi keeps its worker children on SIGTERM: stop them too.
cleanup_servers() {
  for p in "${PIDS[@]}"; do pkill -KILL -P "$p" 2>/dev/null || true; kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true; done
  PIDS=()
}
cleanup_servers
mkdir -p scale
SCALE_JSON=$("$SCALE_BENCH" "$PWD/scale" "$SCALE" 8 2>scale.log)
SCALE_JSON+=$("$SCALE_BENCH" load "$PWD/scale")  # a fresh process: cold start and memory
rm -rf scale
sj() { echo "$SCALE_JSON" | sed -E "s/.*\"$1\":([0-9.e+-]+).*/\1/" | awk '{ if ($1 >= 100 || $1 == int($1)) printf "%.0f", $1; else printf "%.2f", $1 }'; }

# OpenSSL's bound on all cores: one P-256 signature and one verify per certificate.
speed=$(openssl speed -seconds 3 -multi "$(nproc)" ecdsap256 2>/dev/null | grep -E "^ *256 bits ecdsa|ecdsa \(nistp256\)" | tail -1)
SIGN=$(echo "$speed" | awk '{print $(NF-1)}')
VERIFY=$(echo "$speed" | awk '{print $NF}')
BOUND=$(awk -v s="$SIGN" -v v="$VERIFY" 'BEGIN { printf "%.0f", 1 / (1/s + 1/v) }')

CPU=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# cairn benchmarks"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores ($CPU), $(free -g | awk '/Mem:/{print $2}') GiB; \`bench/run.sh $SECS $SCALE $ROUNDS\`."
  echo
  echo "Issuance over HTTP, P-256 CSR to a P-256 intermediate, keep-alive connections, closed loop"
  echo "(\`bench_client\`: event-driven, two threads, on the same machine as the server)."
  echo "cairn commits every certificate durably (synced RocksDB batch) before answering; cfssl records nothing."
  echo "$ROUNDS rounds of $SECS s, cairn and cfssl taking turns; medians, with the range of the rates."
  echo
  echo "| concurrency | cairn cert/s (range) | cairn p50 / p99 ms | cfssl cert/s (range) | cfssl p50 / p99 ms | cairn / cfssl | p99 cairn / cfssl |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in 1 8 32; do
    printf "| %s | %.0f (%.0f-%.0f) | %.2f / %.2f | %.0f (%.0f-%.0f) | %.2f / %.2f | %.2f | %.2f |\n" "$c" \
      "${RATE[cairn$c]}" "$(echo "${RATES[cairn$c]}" | lowest)" "$(echo "${RATES[cairn$c]}" | highest)" \
      "${P50[cairn$c]}" "${P99[cairn$c]}" \
      "${RATE[cfssl$c]}" "$(echo "${RATES[cfssl$c]}" | lowest)" "$(echo "${RATES[cfssl$c]}" | highest)" \
      "${P50[cfssl$c]}" "${P99[cfssl$c]}" \
      "$(awk -v a="${RATE[cairn$c]}" -v b="${RATE[cfssl$c]}" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
      "$(awk -v a="${P99[cairn$c]}" -v b="${P99[cfssl$c]}" 'BEGIN { print (b > 0 ? a / b : 0) }')"
  done
  echo
  echo "OCSP for a valid certificate, concurrency 32: nonce-less requests (cached answers) and"
  echo "requests with a nonce (each answer freshly signed):"
  echo
  echo "| responder | cached answers/s | p99 ms | nonce answers/s | p99 ms |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  printf "| cairn /ocsp/issuing (public listener) | %.0f | %.2f | %.0f | %.2f |\n" "${RATE[ocspcairn]}" "${P99[ocspcairn]}" \
    "${RATE[ocspcairn-nonce]}" "${P99[ocspcairn-nonce]}"
  printf "| openssl ocsp -multi %s | %.0f | %.2f | %.0f | %.2f |\n" "$(nproc)" "${RATE[ocspossl]}" "${P99[ocspossl]}" \
    "${RATE[ocspossl-nonce]}" "${P99[ocspossl-nonce]}"
  printf "\ncairn / openssl ocsp: %.1f cached, %.1f nonce\n\n" \
    "$(awk -v a="${RATE[ocspcairn]}" -v b="${RATE[ocspossl]}" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
    "$(awk -v a="${RATE[ocspcairn-nonce]}" -v b="${RATE[ocspossl-nonce]}" 'BEGIN { print (b > 0 ? a / b : 0) }')"
  echo "OpenSSL on all cores (\`openssl speed -multi $(nproc) ecdsap256\`): $SIGN sign/s, $VERIFY verify/s;"
  echo "bound for one sign + one verify per certificate: $BOUND cert/s."
  printf "cairn at concurrency 32 reaches %.1f%% of it.\n" "$(awk -v a="${RATE[cairn32]}" -v b="$BOUND" 'BEGIN { print 100 * a / b }')"
  echo
  echo "CA scale (\`scale_bench\`, in-process through CaManager on RocksDB, $(sj certificates) certificates"
  echo "issued by $(sj issue_threads) threads at $(sj issue_rate) cert/s, durable):"
  echo
  echo "| measure | value |"
  echo "| --- | ---: |"
  for point in 1000 100000 1000000; do
    if [[ $SCALE_JSON == *"revoke_to_crl_ms_$point\""* ]]; then
      echo "| revocation to new CRL at $point revoked (median of 5; slowest) | $(sj "revoke_to_crl_ms_$point") ms ($(sj "revoke_to_crl_max_ms_$point")) |"
    fi
  done
  echo "| CRL built from scratch ($(sj crl_entries) entries) | $(sj crl_full_build_ms) ms, $(sj crl_bytes) bytes |"
  echo "| replay of $(sj events) events | $(sj replay_events_per_s) events/s |"
  echo "| cold start without snapshot (replay) | $(sj cold_start_replay_ms) ms |"
  echo "| cold start from the snapshot | $(sj cold_start_snapshot_ms) ms |"
  echo "| snapshot of the final state: encoding all of it, size (record and pieces) | $(sj snapshot_encode_ms) ms, $(sj snapshot_bytes) bytes |"
  echo "| a snapshot's work in the CA's turn: every chunk written (the first after a start) / none changed | $(sj snapshot_turn_all_chunks_ms) / $(sj snapshot_turn_unchanged_ms) ms (record $(sj snapshot_record_bytes) bytes) |"
  echo "| issuance latency while building the CA, p50 / p99.9 / max | $(sj issue_ms_p50) / $(sj issue_ms_p999) / $(sj issue_ms_max) ms |"
  echo "| resident memory per issued certificate | $(sj rss_bytes_per_certificate) bytes |"
  if ((${#WARNINGS[@]})); then
    echo
    echo "Warnings in this run (the figures they concern are not to be trusted):"
    for w in "${WARNINGS[@]}"; do echo "- $w"; done
  fi
} > "$ROOT/bench/results.md"
cat "$ROOT/bench/results.md"
