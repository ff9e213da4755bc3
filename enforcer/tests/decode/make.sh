#!/bin/sh
# Regenerates the encoded fixtures of enforcer/tests/decode.rs with real
# producers: GNU gzip, the zstd and brotli command-line tools (Debian
# packages gzip, zstd, brotli) and Python 3's standard library.
set -eu
cd "$(dirname "$0")"
payload='{"name":"Ann","card":"4111 1111 1111 1111","note":"thanks"}'
printf '%s' "$payload" > payload.json
gzip -9 -n -c payload.json > payload.json.gz
zstd -q -19 -c payload.json > payload.json.zst
brotli -q 11 -c payload.json > payload.json.br
python3 - <<'PY'
import base64, zlib, json, urllib.parse
p = open("payload.json", "rb").read()
open("payload.json.zlib", "wb").write(zlib.compress(p, 9))
open("payload.json.deflate", "wb").write(zlib.compress(p, 9)[2:-4])
out = {
  "base64": base64.b64encode(p).decode(),
  "base64url": base64.urlsafe_b64encode(b"\xfb\xff" + p).decode().rstrip("="),
  "mime_base64": base64.encodebytes(p * 3).decode(),
  "hex": p.hex(),
  "hex_spaced": p.hex(" "),
  "utf16le": p.decode().encode("utf-16-le").hex(),
  "utf16be_bom": p.decode().encode("utf-16").hex(),
  "utf32": p.decode().encode("utf-32").hex(),
  "percent": urllib.parse.quote(p.decode(), safe=""),
  "form": urllib.parse.urlencode({"cc": "4111 1111 1111 1111", "x": "y"}),
  "json_escaped": json.dumps({"d": "".join("\\u%04x" % ord(c) for c in "4111111111111111")}).replace("\\\\", "\\"),
  "base64_of_gzip": base64.b64encode(open("payload.json.gz", "rb").read()).decode(),
  "percent_of_base64": urllib.parse.quote(base64.b64encode(p).decode(), safe=""),
  "dots": "card=4111.1111.1111.1111",
  "html_entities": "".join("&#%d;" % ord(c) for c in "4111111111111111"),
}
json.dump(out, open("encoded.json", "w"), indent=1)
PY
