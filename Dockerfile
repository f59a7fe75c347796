# One image for both jobs: the entry point is `leakwarden`, so
#   docker run --rm -v "$PWD:/src" leakwarden scan /src     scans a folder (or: scan --git /src)
#   docker run -p 3000:3000 -v leakwarden-data:/data ... leakwarden    runs the GitHub App (`serve`, the default)
# Build: docker build -t leakwarden .  The steps mirror CI (.ci/run): npm ci compiles the TypeScript and builds
# better-sqlite3.

FROM node:24-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY rules ./rules
RUN npm ci && npm prune --omit=dev

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data /src && chown node:node /data \
 && git config --system safe.directory '*'
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY rules ./rules
COPY package.json app.yml ./

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LEAKWARDEN_DB=/data/leakwarden.db \
    LEAKWARDEN_CACHE=/data/repos
VOLUME ["/data"]
USER node
# Scans report paths relative to the mounted folder.
WORKDIR /src
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "/app/bin/leakwarden.js"]
CMD ["serve"]
