# syntax=docker/dockerfile:1
# One image for both roles: `gatekeeper serve` (webhook + controller, the Deployment) and `gatekeeper migrate`
# (the migration Job). The entrypoint is the gatekeeper binary; the chart and the controller pass the command.
#
# Build:  docker build -t gatekeeper:dev .
# The binary is Native AOT (scripts/publish.sh, the one way it is built): one self-contained executable of about
# 43 MB that needs no .NET runtime, so the final stage is Microsoft's chiseled runtime-deps image (glibc, OpenSSL,
# CA certificates; no shell, no package manager) with a numeric non-root user (1654, "app"). It runs under
# `runAsNonRoot` and `readOnlyRootFilesystem` (the chart mounts an emptyDir on /tmp).

ARG DOTNET_VERSION=10.0

# The -aot SDK image brings the native toolchain (clang, lld, zlib) Native AOT links with. A multi-platform build
# runs this stage on each target platform (emulated where it is not the builder's); cross-compiling from one
# architecture to the other would need the target's linker and zlib in this stage instead.
FROM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble-aot AS build
ARG TARGETARCH
WORKDIR /source
COPY Directory.Build.props Directory.Packages.props ./
COPY scripts/publish.sh scripts/
COPY src/ src/
# scripts/publish.sh fails on any trim or AOT warning; the image gets only the executable (its .dbg symbols and the
# .pdb files stay in this stage).
RUN scripts/publish.sh /publish --arch "${TARGETARCH:-amd64}" && mkdir /app && cp /publish/gatekeeper /app/

FROM mcr.microsoft.com/dotnet/runtime-deps:${DOTNET_VERSION}-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app ./
# Kestrel is configured by `gatekeeper serve` (HTTPS on Webhook:Port); the base image's default HTTP port would
# only add a warning.
ENV ASPNETCORE_HTTP_PORTS= \
    DOTNET_NOLOGO=1 \
    TMPDIR=/tmp
USER 1654
EXPOSE 8443
ENTRYPOINT ["/app/gatekeeper"]
CMD ["serve"]
