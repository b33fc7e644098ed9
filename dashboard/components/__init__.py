"""Chart builders, graph rendering and link helpers: DataFrames in, figures or strings out."""
