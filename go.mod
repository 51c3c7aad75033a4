module github.com/neuralstyle/neuralstyle

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	github.com/wamuir/graft v0.10.0
	google.golang.org/protobuf v1.34.2
)
