package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/joho/godotenv"

	"github.com/explainerbot/explainer/config"
)

// settingsFlags is --env-file, the flag of every command that reads the
// settings.
type settingsFlags struct {
	envFile string
	fs      *flag.FlagSet
}

func (s *settingsFlags) register(fs *flag.FlagSet) {
	s.fs = fs
	fs.StringVar(&s.envFile, "env-file", ".env", "read settings from this `file` when it exists; the environment wins")
}

// read returns the settings' variables from the environment and the env
// file, and the file's variables that are not settings; see readEnviron.
func (s *settingsFlags) read(c cli) (environ map[string]string, strays []string, err error) {
	explicit := false
	s.fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "env-file" })
	return readEnviron(s.envFile, explicit, c.env)
}

// load reads the settings the digest and kb commands use: a
// half-configured Slack or Discord does not stop them.
func (s *settingsFlags) load(c cli) (config.Config, error) {
	all, _, err := s.read(c)
	if err != nil {
		return config.Config{}, err
	}
	environ := make(map[string]string)
	for name, v := range all {
		if strings.HasPrefix(name, "EXPLAINER_") || strings.HasPrefix(name, "LOG_") {
			environ[name] = v
		}
	}
	return config.Load(environ)
}

// loadSettings checks every setting in environ, and lists every problem
// at once.
func loadSettings(environ map[string]string) (config.Config, error) {
	cfg, err := config.Load(environ)
	var ce *config.Error
	if errors.As(err, &ce) {
		return cfg, fmt.Errorf("%d problem(s) with the settings:\n  %s", len(ce.Problems), strings.Join(ce.Problems, "\n  "))
	}
	return cfg, err
}

// readEnviron returns the settings' variables from the env file, if there
// is one, overlaid with the process environment. It also names the file's
// variables that are not settings (typos, usually). A missing env file is
// an error only when it was named explicitly.
func readEnviron(path string, explicit bool, e env) (environ map[string]string, strays []string, err error) {
	environ = make(map[string]string)
	fromFile, err := godotenv.Read(path)
	switch {
	case err == nil:
		known := config.Variables()
		for name, v := range fromFile {
			environ[name] = v
			if !slices.Contains(known, name) {
				strays = append(strays, name)
			}
		}
		sort.Strings(strays)
	case errors.Is(err, os.ErrNotExist) && !explicit:
	default:
		return nil, nil, fmt.Errorf("env file: %w", err)
	}
	for _, name := range config.Variables() {
		if v, ok := e.lookup(name); ok {
			environ[name] = v
		}
	}
	return environ, strays, nil
}
