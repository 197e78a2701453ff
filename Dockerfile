# Multi-stage build: a static, CGO-free binary on a distroless, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/authserver ./cmd/authserver

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authserver /usr/local/bin/authserver
USER nonroot:nonroot
WORKDIR /var/lib/authserver
EXPOSE 5001
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/authserver", "healthcheck", "--url", "http://127.0.0.1:5001/healthz"]
ENTRYPOINT ["/usr/local/bin/authserver"]
CMD ["serve", "--config", "/etc/authserver/config.yaml"]
