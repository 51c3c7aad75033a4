// Package provenance names what a result was made from: the bytes of its input
// files (HashFile) and of the model (ModelID), as sweep keys and video records
// hold them, and the exporters' record beside a model (MetadataFile).
package provenance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// MetadataFile is what the exporters write beside saved_model.pb: where the
// weights came from, their checksum, the layers, the signatures.
const MetadataFile = "neuralstyle.json"

// HashFile is the SHA-256 of a file's bytes in hex, as keys and records hold it.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ModelID is the SHA-256 of a SavedModel folder's files (names and bytes), so a
// point's key changes with the model. The exporter's record, neuralstyle.json, is
// left out: TensorFlow does not read it, and it carries the export's time. (Two
// exports of the random seed-1 model gave byte-identical saved_model.pb,
// variables and fingerprint.pb; only that record differed.)
func ModelID(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			if rel != MetadataFile {
				files = append(files, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("provenance: model %s: %w", dir, pathless(err))
	}
	if len(files) == 0 {
		return "", fmt.Errorf("provenance: model %s: no files", dir)
	}
	slices.Sort(files)
	h := sha256.New()
	for _, rel := range files {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return "", fmt.Errorf("provenance: model %s: %w", dir, err)
		}
		st, err := f.Stat()
		if err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00", rel, st.Size())
			_, err = io.CopyN(h, f, st.Size())
		}
		f.Close()
		if err != nil {
			return "", fmt.Errorf("provenance: model %s: %s: %w", dir, rel, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pathless drops the operation and path of a *fs.PathError, for messages that
// name the file themselves.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadMetadata decodes dir's MetadataFile into v. what names the export
// ("training graph") and hint says how to make one; both go into the errors,
// which tell a missing folder, a folder without the file and a damaged file
// apart.
func ReadMetadata(dir, what, hint string, v any) error {
	raw, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return fmt.Errorf("no %s at %s: %s", what, dir, hint)
		}
		return fmt.Errorf("%s has no %s, so it is not a %s: %s", dir, MetadataFile, what, hint)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: damaged (%v): %s", filepath.Join(dir, MetadataFile), err, hint)
	}
	return nil
}
