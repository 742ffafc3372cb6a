# streamshift: the sidecar and the relay, one binary.
#
#   docker build -t streamshift:0.1.0 .
#
# The build stage runs the README's steps (scripts/setup-deps.sh, then
# CMake); the runtime stage is bookworm-slim with the four shared libraries
# the binary links, and a non-root user. `streamshift proxy` (the default)
# or `streamshift relay`.
FROM debian:bookworm-slim AS build
WORKDIR /src
COPY . .
RUN bash scripts/setup-deps.sh build \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
 && cmake --build build -j "$(nproc)" --target streamshift \
 && strip build/bin/streamshift

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libuv1 libhiredis0.14 libsimdjson14 libyaml-cpp0.7 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 streamshift \
 && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin streamshift
COPY --from=build /src/build/bin/streamshift /usr/local/bin/streamshift
USER 10001:10001
EXPOSE 15001 15000 15002
ENTRYPOINT ["/usr/local/bin/streamshift"]
CMD ["proxy"]
