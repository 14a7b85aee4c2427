# ecslocal in a container.  Real networking (namespaces, veth, nftables)
# needs a privileged container:
#   docker build -t ecslocal .
#   docker run --privileged -p 4566:4566 -p 4553:4553/udp ecslocal

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
      libcurl4-openssl-dev libgnutls28-dev libmnl-dev libnftables-dev libldns-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY api api
COPY server server
COPY storage storage
RUN make -j"$(nproc)" all

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libmicrohttpd12 libjansson4 libsqlite3-0 libcurl4 libgnutls30 libmnl0 \
      libnftables1 libldns3 ca-certificates iproute2 procps python3 curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/release/ecslocal /src/build/release/ecslocal-shim /usr/local/bin/
VOLUME /var/lib/ecslocal
EXPOSE 4566 4553/udp 4553/tcp
ENTRYPOINT ["ecslocal", "serve", "--listen", "0.0.0.0:4566", "--dns-listen", "0.0.0.0:4553", \
            "--data-dir", "/var/lib/ecslocal"]
