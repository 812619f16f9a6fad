# syntax=docker/dockerfile:1
# sts-sidecar: one image, two subcommands (`sidecar`, the default, and `webhook`).
# Build: docker build -t sts-sidecar:dev .
# The Node major here must equal the one the tests run on (package.json devDependency `node`);
# test/unit/dockerfile.test.ts checks it.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts scripts/build.ts
COPY scripts/build/ scripts/build/
COPY src/ src/
# A self-contained ESM bundle (dist/sts-sidecar.mjs + dist/chunks/, one chunk per subcommand):
# every runtime dependency is inside it, so the runtime stage needs no node_modules at all.
RUN node scripts/build.ts

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=build /src/dist/ /app/
# distroless "nonroot": uid/gid 65532. Numeric, so runAsNonRoot can verify it.
USER 65532:65532
# Nothing is written to the root filesystem: logs go to stdout, the auth token to a mounted
# emptyDir. Runs with readOnlyRootFilesystem: true.
ENV NODE_ENV=production
ENTRYPOINT ["/nodejs/bin/node", "/app/sts-sidecar.mjs"]
CMD ["sidecar"]
