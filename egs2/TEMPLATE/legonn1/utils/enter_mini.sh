# Sourced by a recipe's run.sh for --mini true: the mini profile works in mini/ (links to the
# recipe's conf/ and local/ and to the TEMPLATE), so it never mixes its data, dumps or models
# with a full run's.
if [ "$(basename "$PWD")" != mini ]; then
  mkdir -p mini
  for f in conf local legonn.sh utils path.sh cmd.sh; do ln -sfn "../$f" "mini/$f"; done
  cd mini
fi
