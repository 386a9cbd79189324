// eda-keys: makes and shows the CURVE key pairs the kit's sockets use with --curve-keys.
//
//   eda-keys generate DIR NAME   writes DIR/NAME.key (public) and DIR/NAME.key_secret (0600)
//   eda-keys show FILE           prints the public key of a .key or .key_secret file

#include <iostream>
#include <string>

#include "eda/cli.hpp"
#include "eda/security.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "eda-keys: CURVE key pairs for the kit's encrypted, authenticated sockets.\n"
      "A key pair is two Z85 text files: NAME.key (the public key: share it) and\n"
      "NAME.key_secret (the secret key, mode 0600: never share it).\n\n"
      "The layout every demo's --curve-keys DIR reads:\n"
      "  eda-keys generate DIR server            the servers' key pair\n"
      "  eda-keys generate DIR/clients client    a client's key pair; every DIR/clients/*.key\n"
      "                                          is a client the servers let in\n"};
  app.require_subcommand(1);

  std::string directory;
  std::string name;
  CLI::App* generate = app.add_subcommand(
      "generate", "Make a new key pair DIR/NAME.key + DIR/NAME.key_secret (never overwrites)");
  generate->add_option("DIR", directory, "Directory to write to (created if missing)")->required();
  generate->add_option("NAME", name, "Name of the pair, e.g. server or billing")->required();

  std::string file;
  CLI::App* show = app.add_subcommand("show",
                                      "Print the public key of FILE (NAME.key, or NAME.key_secret: "
                                      "derived, the secret is never printed)");
  show->add_option("FILE", file, "A key file")->required()->check(CLI::ExistingFile);

  return eda::cli::run(app, argc, argv, [&] {
    if (generate->parsed()) {
      const eda::KeyPair keys = eda::KeyPair::generate();
      const auto public_file = keys.save(directory, name);
      std::cout << "wrote " << public_file.string() << " (public) and "
                << (public_file.parent_path() / (name + ".key_secret")).string()
                << " (secret, mode 0600)\npublic key: " << keys.public_key << '\n';
      return 0;
    }
    const bool secret = file.ends_with(".key_secret");
    std::cout << (secret ? eda::KeyPair::load(file).public_key : eda::load_public_key(file))
              << '\n';
    return 0;
  });
}
