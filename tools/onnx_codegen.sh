#!/usr/bin/env bash
# Regenerates src/io/onnx/onnx_pb.ts from the vendored schema src/io/onnx/proto/onnx.proto
# (copied from Debian's python3-onnx, /usr/lib/python3/dist-packages/onnx/onnx.proto; Apache-2.0,
# its SPDX header kept). Runs offline: @bufbuild/buf ships its compiler as an npm binary and
# @bufbuild/protoc-gen-es is a dev dependency.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npx buf generate src/io/onnx/proto --template '{
  "version": "v2",
  "plugins": [{
    "local": "protoc-gen-es",
    "out": "'"$out"'",
    "opt": ["target=ts", "import_extension=js"]
  }]
}'
mv "$out/onnx_pb.ts" src/io/onnx/onnx_pb.ts
