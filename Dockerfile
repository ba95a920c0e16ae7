# syntax=docker/dockerfile:1
# Gossamer node image: build with the dev dependencies, run the compiled JavaScript with the
# production ones only, as an unprivileged user.
#   docker build -t gossamer:0.1.0 .
#   docker run --rm -p 8000:8000 -p 6380:6380 gossamer:0.1.0
# docs/deployment.md has the multi-machine guide; deploy/kubernetes/ the manifests.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim AS runtime
ENV NODE_ENV=production \
    GOSSAMER_LISTEN=0.0.0.0:7000 \
    GOSSAMER_HTTP=0.0.0.0:8000 \
    GOSSAMER_RESP=0.0.0.0:6380 \
    GOSSAMER_DATA=/var/lib/gossamer/data \
    GOSSAMER_LOG_FORMAT=json
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
# The image's `node` user (uid 1000) owns the data directory and nothing else.
RUN mkdir -p /var/lib/gossamer && chown node:node /var/lib/gossamer
USER node
VOLUME ["/var/lib/gossamer"]
# inter-node, HTTP (API, /metrics, /health, /ui), RESP
EXPOSE 7000 8000 6380
# Plain HTTP only: with TLS on the listeners, probe /health over HTTPS from outside instead.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["start"]
