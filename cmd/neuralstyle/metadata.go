package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/neuralstyle/neuralstyle/internal/provenance"
)

// metadataFile is what exporters write beside saved_model.pb: where the weights came
// from, their checksum, the layers. inspect shows whatever it holds.
const metadataFile = provenance.MetadataFile

// decodeMetadata decodes dir's metadataFile into v. found is false, with no error,
// when the file does not exist.
func decodeMetadata(dir string, v any) (found bool, err error) {
	path := filepath.Join(dir, metadataFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("%s: %v", path, err)
	}
	return true, nil
}

// requireMetadata is decodeMetadata for a command that needs the record. Its
// absence is an error saying how to export the model: noModel when dir does not
// exist, noRecord when only the file is missing (each formats dir with %s).
func requireMetadata(dir string, v any, noModel, noRecord string) error {
	found, err := decodeMetadata(dir, v)
	if err != nil || found {
		return err
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf(noModel, dir)
	}
	return fmt.Errorf(noRecord, dir)
}
