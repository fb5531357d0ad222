# utmd's container image: utmd and utmctl on Debian 12 (bookworm).
#
#   docker build -t utmd:0.1.0 .
#   docker run --rm -p 7400:7400 utmd:0.1.0
#
# (Needs a Docker engine.) The build stage installs exactly the packages a
# developer machine has (scripts/install-deps.sh) and builds the two binaries
# in Release without tests or benchmarks; the runtime stage holds only the
# shared libraries and data files they need at run time, and runs as a
# non-root user. tests/k8s_manifests_test.sh checks the runtime packages below
# against what `ldd utmd` needs.

FROM debian:12 AS build
ENV DEBIAN_FRONTEND=noninteractive
COPY scripts/install-deps.sh /src/scripts/install-deps.sh
# No sanitizer toolchain, Kubernetes tooling, Bazel or browser: none is needed
# to build. npm (Debian's) fetches the map page's packages as web/'s lockfile
# pins them; the build bundles them into utmd (docs/map.md).
RUN UTM_SANITIZE_STAGE=0 UTM_K8S_STAGE=0 UTM_BAZEL_STAGE=0 UTM_MAP_BROWSER_STAGE=0 \
    /src/scripts/install-deps.sh \
 && apt-get update -qq && apt-get install -y --no-install-recommends npm \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cd /src/web && npm ci --no-audit --no-fund --loglevel=error
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DUTM_BUILD_TESTS=OFF -DUTM_BUILD_BENCHMARKS=OFF \
 && cmake --build /build --target utmd utmctl \
 && strip /build/services/utmd/utmd /build/services/utmctl/utmctl

FROM debian:12-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# The shared libraries of utmd and utmctl (their own dependencies come with
# them), the IANA time zones of constraint schedules, and the EGM96 geoid grid
# (/usr/share/proj/egm96_15.gtx) for heights above mean sea level.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libabsl20220623 \
      libarchive13 \
      libcpp-httplib0.11 \
      libgdal32 \
      libgeographiclib23 \
      libgrpc++1.51 \
      libgrpc29 \
      libhiredis0.14 \
      libjwt0 \
      libpcap0.8 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libprotobuf32 \
      libpugixml1v5 \
      libs2-0 \
      libspdlog1.10 \
      libssl3 \
      libstdc++6 \
      zlib1g \
      tzdata \
      proj-data \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 utmd \
 && useradd --system --uid 10001 --gid utmd --home-dir /var/lib/utmd \
      --no-create-home --shell /usr/sbin/nologin utmd \
 && mkdir -p /var/lib/utmd \
 && chown utmd:utmd /var/lib/utmd
COPY --from=build /build/services/utmd/utmd /build/services/utmctl/utmctl /usr/local/bin/
USER 10001:10001
WORKDIR /var/lib/utmd
EXPOSE 7400 9464
VOLUME ["/var/lib/utmd"]
ENTRYPOINT ["utmd"]
CMD ["--listen=0.0.0.0:7400", "--data-dir=/var/lib/utmd"]
