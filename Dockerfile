# The authserver image: FROM scratch, nothing pulled. Build it with
#   make image            (buildah; or: make image-context && docker build dist/image)
# which stages dist/image/ with the static binary (make release's build) and
# an empty state directory, so this file never compiles anything itself.
#
# Run it (state in a volume or a mounted directory owned by 65532):
#   podman run -d -p 5001:5001 -v authserver-data:/var/lib/authserver/data \
#     -e AUTHSERVER_ADMIN_PASSWORD='Change-me-1' localhost/authserver:0.1.0
# On its embedded default it keeps SQLite and a generated key in
# /var/lib/authserver/data; give it a config with --config for anything else.
FROM scratch
ARG VERSION=dev
LABEL org.opencontainers.image.title="authserver" \
      org.opencontainers.image.description="Token authentication server for Docker and OCI registries" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY authserver /usr/local/bin/authserver
COPY --chown=65532:65532 state/ /var/lib/authserver/
USER 65532:65532
WORKDIR /var/lib/authserver
ENV AUTHSERVER_ADDR=0.0.0.0:5001
EXPOSE 5001
# Probes /readyz at the configured address (https when server.tls is set).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s CMD ["/usr/local/bin/authserver", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/authserver"]
CMD ["serve"]
