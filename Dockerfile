# The image `wsim sweep plan SPEC --emit k8s` runs: wsim on Node 20, `wsim` on the PATH.
#   docker build -t wsim:latest .          (in this checkout; push it where your cluster pulls from)
# Build stage: the TypeScript compiled with the dev dependencies; the image keeps only the
# runtime dependencies, dist/, bin/ and the bundled traces.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.json

FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY traces ./traces
RUN ln -s /app/bin/wsim /usr/local/bin/wsim
# the manifest runs the pods as uid 1000 (node) with fsGroup 1000 on the volume
USER node
CMD ["wsim", "--help"]
