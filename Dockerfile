# async-norms in a container: a multi-stage build, then a small non-root image holding only
# the binary. Data lives in the /data volume; the listener binds 0.0.0.0:3000 inside.
#
#   docker build -t async-norms .
#   docker run -d -p 3000:3000 -v async-norms-data:/data \
#     -e SLACK_BOT_TOKEN=xoxb-… -e SLACK_SIGNING_SECRET=… async-norms
#
# The builder's Rust is at least Cargo.toml's rust-version; dependencies come from Cargo.lock.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The whole tree but what .dockerignore leaves out: Cargo.toml names the benches, so cargo
# wants their files even for the binary alone.
COPY . .
RUN cargo build --release --locked --bin async-norms \
 && install -D -m 0755 target/release/async-norms /out/async-norms \
 && install -d -m 0700 /out/data

# distroless/cc: glibc, CA certificates and a non-root user (uid 65532), no shell.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/async-norms /usr/local/bin/async-norms
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# MALLOC_MMAP_THRESHOLD_: as in deploy/async-norms.service, a burst's peak RSS a few MB lower.
ENV ASYNC_NORMS_LISTEN=0.0.0.0:3000 \
    ASYNC_NORMS_DATA_DIR=/data \
    RUST_LOG=info \
    MALLOC_MMAP_THRESHOLD_=131072
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/async-norms"]
CMD ["serve"]
