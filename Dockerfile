# streamshift: the sidecar and the relay, one binary.
#
#   docker build --build-arg REVISION="$(git rev-parse HEAD)" -t streamshift:0.1.0 .
#
# The build stage runs the README's steps (scripts/setup-deps.sh, then
# CMake): the packages first, from setup-deps.sh alone, so a change to the
# sources reuses that layer; then the sources. The runtime stage is
# bookworm-slim with the shared libraries the binary links, and a non-root
# user. `streamshift proxy` (the default) or `streamshift relay`.
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY scripts/setup-deps.sh scripts/
RUN bash scripts/setup-deps.sh build
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
 && cmake --build build -j "$(nproc)" --target streamshift \
 && strip build/bin/streamshift

FROM debian:bookworm-slim
# The version `streamshift --version` prints; REVISION is the git commit.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="streamshift" \
      org.opencontainers.image.description="Sidecar moving SignalR internal API calls onto Redis Streams, and the relay that delivers them" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
RUN apt-get update \
 && apt-get install -y --no-install-recommends libuv1 libhiredis0.14 libsimdjson14 libyaml-cpp0.7 libprometheus-cpp-core1.0 \
    libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 streamshift \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin streamshift
COPY --from=build /src/build/bin/streamshift /usr/local/bin/streamshift
USER 10001:10001
EXPOSE 15001 15000 15002
ENTRYPOINT ["/usr/local/bin/streamshift"]
CMD ["proxy"]
