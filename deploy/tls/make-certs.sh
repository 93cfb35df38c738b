#!/usr/bin/env bash
# Makes a private CA, a dispatcher server certificate and one client certificate per centre,
# for TLS (and mutual TLS) between agents and the dispatcher.
#
#   deploy/tls/make-certs.sh OUT_DIR DISPATCHER_NAME [CENTRE...]
#   deploy/tls/make-certs.sh /etc/microwork/tls dispatcher.example.org nairobi kampala
#
# DISPATCHER_NAME goes into the server certificate's subjectAltName (a DNS name, or an IP
# address such as 127.0.0.1). Keys are written mode 0600. Re-running keeps an existing CA.
set -euo pipefail
out="${1:?usage: make-certs.sh OUT_DIR DISPATCHER_NAME [CENTRE...]}"
name="${2:?usage: make-certs.sh OUT_DIR DISPATCHER_NAME [CENTRE...]}"
shift 2
mkdir -p "$out"
umask 077
days=825

if [[ ! -f "$out/ca.key" ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -keyout "$out/ca.key" -out "$out/ca.crt" \
    -days 3650 -subj "/CN=microwork CA" >/dev/null 2>&1
fi

if [[ "$name" =~ ^[0-9.]+$ || "$name" == *:* ]]; then san="IP:$name"; else san="DNS:$name"; fi
# Loopback too, so the dispatcher can be checked on its own host.
[[ "$name" != "localhost" ]] && san="$san,DNS:localhost"
[[ "$name" != "127.0.0.1" ]] && san="$san,IP:127.0.0.1"

sign() {  # sign NAME SUBJECT EXTENSIONS
  openssl req -newkey rsa:2048 -nodes -keyout "$out/$1.key" -out "$out/$1.csr" \
    -subj "$2" >/dev/null 2>&1
  openssl x509 -req -in "$out/$1.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
    -CAcreateserial -out "$out/$1.crt" -days "$days" -extfile <(printf '%s\n' "$3") \
    >/dev/null 2>&1
  rm -f "$out/$1.csr"
}

sign dispatcher "/CN=$name" "subjectAltName=$san
extendedKeyUsage=serverAuth"
for centre in "$@"; do
  sign "centre-$centre" "/CN=$centre" "extendedKeyUsage=clientAuth"
done
chmod 0644 "$out"/*.crt
echo "wrote $out: ca.crt, dispatcher.crt/.key$(for c in "$@"; do printf ', centre-%s.crt/.key' "$c"; done)"
