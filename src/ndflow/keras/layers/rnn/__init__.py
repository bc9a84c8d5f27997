"""Recurrent layers: `RNN` and its cells, `SimpleRNN`, `LSTM`, `GRU`, `StackedRNNCells`,
`Bidirectional`, `TimeDistributed`."""
