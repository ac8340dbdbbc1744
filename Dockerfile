# syntax=docker/dockerfile:1
# Build: docker build -t paydoctor .
# Run:   docker run -d --name paydoctor --env-file paydoctor.env -v paydoctor-data:/data -p 8080:8080 paydoctor
# Stats and backups while it runs (the admin socket is on the volume, next to the database):
#   docker exec paydoctor /bot stats --since 7d
#   docker exec paydoctor /bot backup /data/backup.db && docker cp paydoctor:/data/backup.db .

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: no libc needed at run time. The knowledge base is embedded.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/bot ./cmd/bot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bot /bot
# The database lives on a volume owned by the nonroot user (uid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV BOT_DB=/data/paydoctor.db \
    BOT_HTTP_ADDR=:8080 \
    BOT_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# No shell or curl in this image: let the orchestrator probe GET /healthz on port 8080.
ENTRYPOINT ["/bot"]
