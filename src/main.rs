fn main() {
    std::process::exit(ecsflow::commands::main());
}
