FROM scratch
ENV LANG=C.UTF-8
LABEL org.opencontainers.image.vendor="Example Inc."
