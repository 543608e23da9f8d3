# Multi-stage build: a static hookshift binary in a distroless image that runs
# as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/hookshift ./cmd/hookshift

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookshift /hookshift
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/hookshift"]
CMD ["serve"]
