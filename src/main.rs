fn main() {
    std::process::exit(ecsflow::cli::main());
}
