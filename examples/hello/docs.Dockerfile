FROM scratch
COPY site/index.html /usr/share/doc/hello/index.html
